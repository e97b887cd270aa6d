import type { Logger } from '../lib/log.ts';
import { Renderer } from './renderer.ts';
import { compileTemplates, type TemplateSet } from './templates.ts';

/** What the API and the CLI need to produce PDFs: the compiled templates and the one renderer. */
export interface DocumentService {
  templates: TemplateSet;
  renderer: Renderer;
}

export const DEFAULT_BROWSER_PATH = '/usr/bin/chromium';

/**
 * Compiles every document template now (a broken one throws here, at start-up) and prepares a
 * renderer; the browser itself starts with the first document.
 */
export function createDocumentService(
  options: { browserPath?: string; log?: Logger; concurrency?: number; maxQueue?: number } = {},
): DocumentService {
  return {
    templates: compileTemplates(),
    renderer: new Renderer({
      browserPath: options.browserPath ?? DEFAULT_BROWSER_PATH,
      log: options.log,
      concurrency: options.concurrency,
      maxQueue: options.maxQueue,
    }),
  };
}
