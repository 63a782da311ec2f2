/**
 * The cover of a book nobody uploaded one for: its title and author set on a colour of its own, as an
 * inline SVG. Drawn on the server from the book alone (no file, no request, a few hundred bytes), the
 * same on every replica, and it scales with the box it is shown in, card or page.
 */
import { html, type Html } from '@bookstore/shared/html';

/** Text colours on every background below: their contrast is at least 4.5:1 (tested). */
export const coverInk = { title: '#ffffff', author: '#f4ead5' } as const;

/**
 * The book's colour: a hue a golden angle from its neighbour's (books listed together differ), dark
 * enough that light text reads on it whatever the hue.
 *
 * @example
 * coverColour(7) // '#2a2862'
 */
export function coverColour(bookId: number): string {
  const hue = (bookId * 137.508) % 360;
  return hslToHex(hue, 0.42, 0.27);
}

/**
 * The generated cover. Decorative (`aria-hidden`): wherever it is shown, the title is next to it as
 * text. The title and author are escaped like any text of the page.
 *
 * @example
 * html`<a href="/books/${book.id}">${generatedCover(book)}</a>`
 */
export function generatedCover(book: { id: number; title: string; author: string }, className = 'cover generated'): Html {
  const title = book.title.trim();
  const size = title.length <= 24 ? 24 : title.length <= 60 ? 20 : 17;
  const titleLines = wrap(title, Math.floor(168 / (size * 0.52)), 5);
  const authorLines = wrap(book.author.trim(), 22, 2);
  const lineHeight = Math.round(size * 12) / 10;
  const authorTop = 300 - 24 - (authorLines.length - 1) * 16;
  return html`<svg class="${className}" viewBox="0 0 200 300" aria-hidden="true" focusable="false" preserveAspectRatio="xMidYMid meet"><rect width="200" height="300" fill="${coverColour(book.id)}"/><rect x="12" y="12" width="176" height="276" fill="none" stroke="${coverInk.author}" stroke-opacity=".45"/><text x="100" y="${44 + size}" fill="${coverInk.title}" font-family="Georgia, 'Times New Roman', serif" font-size="${size}" font-weight="700" text-anchor="middle">${titleLines.map(
    (line, index) => html`<tspan x="100" dy="${index === 0 ? 0 : lineHeight}">${line}</tspan>`,
  )}</text><text x="100" y="${authorTop}" fill="${coverInk.author}" font-family="system-ui, sans-serif" font-size="13" text-anchor="middle">${authorLines.map(
    (line, index) => html`<tspan x="100" dy="${index === 0 ? 0 : 16}">${line}</tspan>`,
  )}</text></svg>`;
}

/** `text` in lines of at most `width` characters, at most `lines` of them (the last ends in "…" if cut). */
export function wrap(text: string, width: number, lines: number): string[] {
  const words = text.split(/\s+/).filter(Boolean).flatMap((word) => (word.length > width ? (word.match(new RegExp(`.{1,${width}}`, 'gu')) ?? [word]) : [word]));
  const result: string[] = [];
  let current = '';
  for (const word of words) {
    if (current && current.length + 1 + word.length > width) {
      result.push(current);
      current = word;
    } else current = current ? `${current} ${word}` : word;
  }
  if (current) result.push(current);
  if (result.length <= lines) return result;
  const kept = result.slice(0, lines);
  kept[lines - 1] = `${kept[lines - 1]!.slice(0, width - 1).trimEnd()}…`;
  return kept;
}

function hslToHex(hue: number, saturation: number, lightness: number): string {
  const chroma = (1 - Math.abs(2 * lightness - 1)) * saturation;
  const channel = (n: number) => {
    const k = (n + hue / 30) % 12;
    const value = lightness - chroma / 2 * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(value * 255).toString(16).padStart(2, '0');
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}
