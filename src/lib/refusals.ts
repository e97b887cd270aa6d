/**
 * A named refusal: what a domain operation answers when it will not do what was asked. Its
 * `type` (the key in a module's catalogue, `src/<module>/refusals.ts`) is stable and names the
 * page `/problems/<type>`; `status` is the HTTP status the API answers with.
 */
export interface Refusal {
  status: number;
  title: string;
  /** What happened, in the users' words. */
  meaning: string;
  /** What to do about it. */
  action: string;
}
