/**
 * Rendering figures without a browser or network: vega-lite spec → vega view (renderer 'none')
 * → SVG → PNG with resvg. Text uses the system fonts (DejaVu Sans on Debian: `fonts-dejavu-core`);
 * without any font the PNGs are still written, only without their text.
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** The font family every figure asks for first. */
export const FONT_FAMILY = 'DejaVu Sans';

/** Renders an SVG document to PNG bytes at `scale` device pixels per SVG pixel, on white. */
export function svgToPng(svg: string, scale = 2): Buffer {
  const resvg = new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
  });
  return resvg.render().asPng();
}

/** Renders a vega-lite specification to an SVG document (offline, no canvas). */
export async function vegaLiteToSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders a vega-lite specification to PNG bytes. */
export async function vegaLiteToPng(spec: TopLevelSpec, scale = 2): Promise<Buffer> {
  return svgToPng(await vegaLiteToSvg(spec), scale);
}
