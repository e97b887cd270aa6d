import { join } from 'node:path';
import { compileDir } from '../lib/templates.ts';

/*
 * The documents' Handlebars templates: templates/documents/layout.hbs wraps every document,
 * partials/ hold the shared pieces, and each other .hbs is one document's body. Everything is
 * read and compiled once, when the service starts; a template with a syntax error, an unknown
 * helper or a missing partial stops start-up instead of failing a reader's request.
 */

export const TEMPLATES_DIR = join(import.meta.dirname, '..', '..', 'templates', 'documents');

export type CompiledDocument = (body: Record<string, unknown>, page: LayoutModel) => string;

export interface LayoutModel {
  title: string;
  reference: string;
  /** A line under the title: who it is for, the year. */
  subtitle: string;
  dateLabel: string;
}

export interface TemplateSet {
  names: string[];
  render(name: string, body: Record<string, unknown>, page: LayoutModel): string;
}

/** Reads and compiles every template in `dir`. Throws, naming the file, if any is broken. */
export function compileTemplates(dir = TEMPLATES_DIR): TemplateSet {
  const { hb, templates: compiled } = compileDir(dir, 'Document');
  const layout = compiled.get('layout');
  if (!layout) throw new Error(`Document templates in ${dir} have no layout.hbs`);
  compiled.delete('layout');

  return {
    names: [...compiled.keys()].sort(),
    render(name, body, page) {
      const template = compiled.get(name);
      if (!template) throw new Error(`no document template ${name}`);
      const content = template({ ...body, page });
      return layout({ ...page, content: new hb.SafeString(content) });
    },
  };
}
