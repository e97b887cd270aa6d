import type { Refusal } from '../lib/refusals.ts';

/*
 * The refusals PDF documents and their renderer can give, each with its stable `type` (`/problems/<type>`), HTTP status,
 * title, what it means and what the user should do. src/http/problems.ts composes every module's
 * catalogue into the one the problem pages and the OpenAPI document read.
 */
export const DOCUMENTS_REFUSALS = {
  'no-decision': {
    status: 409,
    title: 'No decision yet',
    meaning: 'The case has not been decided, so there is no decision letter.',
    action: 'Wait for the panel to decide the case.',
  },
  'browser-unavailable': {
    status: 503,
    title: 'PDFs cannot be rendered on this server',
    meaning: 'The server has no working browser to render PDFs: none is installed at the configured path, or it will not start.',
    action: 'The `detail` names what to install (or set `BROWSER_PATH`). The data is unaffected: read it as JSON meanwhile.',
  },
  'renderer-busy': {
    status: 503,
    title: 'The PDF renderer is busy',
    meaning: 'Every renderer is in use and the queue of documents waiting is full.',
    action: 'Try again after the number of seconds in `Retry-After`.',
  },
  'render-timed-out': {
    status: 503,
    title: 'The document took too long to render',
    meaning: 'Rendering this document went past its time limit and was stopped.',
    action: 'Try again after the number of seconds in `Retry-After`; if it keeps happening, tell the service team which document it was.',
  },
  'render-failed': {
    status: 503,
    title: 'The document could not be rendered',
    meaning: 'The browser stopped or refused while rendering this document.',
    action: 'Try again (the browser has been restarted); if it keeps happening, tell the service team which document it was.',
  },
  'renderer-closed': {
    status: 503,
    title: 'The service is shutting down',
    meaning: 'The server is stopping and takes no new documents.',
    action: 'Try again after the number of seconds in `Retry-After`, when the service is back.',
  },
} as const satisfies Record<string, Refusal>;
