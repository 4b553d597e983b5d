import { Lexer, type MarkedToken, type Token } from 'marked';

/**
 * A Markdown document as the register import reads it: marked's GFM lexer turns it into tokens, and this
 * module flattens them into blocks that know their section and their 1-based line number. Only what a
 * risk profile uses is kept: headings, text lines (of paragraphs and list items), and tables.
 */

export interface Section {
  /** The h2 above, lower-cased plain text ('' before the first h2). */
  h2: string;
  /** The h3 above within that h2 ('' when none). */
  h3: string;
}

export type Block =
  | { kind: 'heading'; depth: number; text: string; line: number; section: Section }
  /** One line of a paragraph or one list item, as plain text (emphasis removed). */
  | { kind: 'line'; text: string; listItem: boolean; line: number; section: Section }
  | { kind: 'table'; header: string[]; rows: TableRow[]; line: number; section: Section };

export interface TableRow {
  /** Each cell's Markdown source (`\|` already unescaped), trimmed. */
  cells: string[];
  /** Each cell as plain text. */
  plain: string[];
  line: number;
}

/** Blocks in document order. CRLF and a BOM are normalised first so line numbers match an editor's. */
export function readBlocks(markdown: string): Block[] {
  const source = markdown.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  // The lexer yields only MarkedToken when no extension is registered (Token's Generic member is for those).
  const tokens = new Lexer({ gfm: true }).lex(source) as MarkedToken[];
  const blocks: Block[] = [];
  const section: Section = { h2: '', h3: '' };
  const lineAt = lineIndex(source);
  let cursor = 0;
  for (const token of tokens) {
    const at = locate(source, token.raw, cursor);
    cursor = at + token.raw.length;
    const line = lineAt(at);
    const here = { ...section };
    switch (token.type) {
      case 'heading': {
        const text = plainText(token.tokens).trim();
        if (token.depth <= 2) {
          section.h2 = token.depth === 2 ? text.toLowerCase() : '';
          section.h3 = '';
        } else if (token.depth === 3) {
          section.h3 = text.toLowerCase();
        }
        blocks.push({ kind: 'heading', depth: token.depth, text, line, section: { ...section } });
        break;
      }
      case 'paragraph': {
        // A paragraph's source lines map one to one onto its text lines; emphasis is per line in practice.
        const sourceLines = token.raw.replace(/\n+$/, '').split('\n');
        sourceLines.forEach((raw, i) => {
          const text = plainText(new Lexer({ gfm: true }).inlineTokens(raw)).trim();
          if (text) blocks.push({ kind: 'line', text, listItem: false, line: line + i, section: here });
        });
        break;
      }
      case 'list': {
        let itemCursor = 0;
        for (const item of token.items) {
          const itemAt = locate(token.raw, item.raw, itemCursor);
          itemCursor = itemAt + item.raw.length;
          const text = plainText(item.tokens).replace(/\s+/g, ' ').trim();
          if (text) blocks.push({ kind: 'line', text, listItem: true, line: lineAt(at + itemAt), section: here });
        }
        break;
      }
      case 'table': {
        const header = token.header.map((cell) => plainText(cell.tokens).trim());
        // Header line, delimiter line, then one line per row.
        const rows = token.rows.map((cells, i) => ({
          cells: cells.map((cell) => cell.text.trim()),
          plain: cells.map((cell) => plainText(cell.tokens).trim()),
          line: line + 2 + i,
        }));
        blocks.push({ kind: 'table', header, rows, line, section: here });
        break;
      }
      default:
        break;
    }
  }
  return blocks;
}

/** The text of inline tokens without their markup (`**High:** 2` → `High: 2`). */
export function plainText(tokens: readonly Token[]): string {
  let out = '';
  for (const token of tokens) {
    if (token.type === 'br') out += ' ';
    else if ('tokens' in token && Array.isArray(token.tokens)) out += plainText(token.tokens);
    else if ('text' in token && typeof token.text === 'string') out += token.text;
  }
  return out;
}

/** Where `raw` starts at or after `from`; `from` when the lexer normalised it (tabs …) beyond recognition. */
function locate(source: string, raw: string, from: number): number {
  const at = source.indexOf(raw, from);
  return at < 0 ? from : at;
}

/** offset → 1-based line, by binary search over the newline offsets (a 1 MB document has many tokens). */
function lineIndex(source: string): (offset: number) => number {
  const newlines: number[] = [];
  for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1)) newlines.push(i);
  return (offset) => {
    let lo = 0;
    let hi = newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (newlines[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
}
