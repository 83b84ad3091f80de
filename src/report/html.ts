/**
 * A self-contained HTML report: inline CSS, figures inlined as PNG data URIs (or inline SVG), no
 * scripts, no external resources, so it opens anywhere offline and can be mailed as one file.
 */

/** A cell value; numbers are formatted with {@link formatNumber}. */
export type Cell = string | number | undefined;

/** One section of the report. */
export interface Section {
  heading: string;
  /** HTML body of the section, built with {@link table}, {@link figure}, {@link paragraph}. */
  body: string;
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A number for people: integers as they are, others with 4 significant digits; NaN/undefined as "—". */
export function formatNumber(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '—';
  if (Number.isInteger(value)) return String(value);
  return Number(value.toPrecision(4)).toString();
}

function cell(value: Cell): string {
  return escapeHtml(typeof value === 'number' || value === undefined ? formatNumber(value) : value);
}

/** A table with a header row; numeric columns are right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const head = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map(
      (r) =>
        `<tr>${r.map((v) => `<td${typeof v === 'number' ? ' class="num"' : ''}>${cell(v)}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A PNG inlined as a data URI, with a caption. */
export function figure(png: Uint8Array, caption: string): string {
  const uri = `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
  return `<figure><img src="${uri}" alt="${escapeHtml(caption)}"><figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

/** A paragraph of plain text. */
export function paragraph(text: string): string {
  return `<p>${escapeHtml(text)}</p>`;
}

const CSS = `
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; margin: 2em auto; max-width: 1100px;
  padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
.meta { color: #666; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.7em; text-align: left; }
th { background: #f5f5f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; margin-top: 0.3em; }
`;

/**
 * The whole page. `generated` is shown under the title (pass a timestamp, or anything else);
 * `css` is added to the style sheet.
 */
export function reportHtml(title: string, generated: string, sections: readonly Section[], css = ''): string {
  const body = sections
    .map((s) => `<section>\n<h2>${escapeHtml(s.heading)}</h2>\n${s.body}\n</section>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}${css}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="meta">${escapeHtml(generated)}</p>
${body}
</body>
</html>
`;
}
