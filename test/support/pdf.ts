import { extractText, getDocumentProxy } from 'unpdf';

/** What a reader (and a screen reader) gets from a PDF: its text, pages, tags and outline. */
export async function readPdf(bytes: Uint8Array) {
  const pdf = await getDocumentProxy(new Uint8Array(bytes));
  const { text, totalPages } = await extractText(pdf, { mergePages: true });
  const mark = await pdf.getMarkInfo();
  const structTree = await (await pdf.getPage(1)).getStructTree();
  const outline = (await pdf.getOutline()) ?? [];
  const titles: string[] = [];
  const walk = (items: { title: string; items?: unknown[] }[]) => {
    for (const i of items) {
      titles.push(i.title.replace(/\s+/g, ' '));
      walk((i.items ?? []) as { title: string; items?: unknown[] }[]);
    }
  };
  walk(outline as { title: string; items?: unknown[] }[]);
  return {
    /** Whitespace collapsed, so wrapped lines still match. */
    text: text.replace(/\s+/g, ' '),
    pages: totalPages,
    tagged: mark?.Marked === true && structTree !== null && (structTree.children?.length ?? 0) > 0,
    outline: titles,
  };
}
