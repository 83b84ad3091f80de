/** Slow, obviously-correct 2D discrete Fourier transforms for checking native FFT code. */

/** Full box×box DFT of a real image: F[ky][kx] = Σ_y Σ_x img[y][x]·e^{−2πi(kx·x + ky·y)/box}. */
export function dft2(img: ArrayLike<number>, box: number): { re: Float64Array; im: Float64Array } {
  const re = new Float64Array(box * box);
  const im = new Float64Array(box * box);
  for (let ky = 0; ky < box; ky++)
    for (let kx = 0; kx < box; kx++) {
      let sr = 0;
      let si = 0;
      for (let y = 0; y < box; y++)
        for (let x = 0; x < box; x++) {
          const a = (-2 * Math.PI * (kx * x + ky * y)) / box;
          sr += img[y * box + x] * Math.cos(a);
          si += img[y * box + x] * Math.sin(a);
        }
      re[ky * box + kx] = sr;
      im[ky * box + kx] = si;
    }
  return { re, im };
}

/** Real part of the inverse DFT (normalised by 1/box²). */
export function idft2Real(re: Float64Array, im: Float64Array, box: number): Float64Array {
  const out = new Float64Array(box * box);
  for (let y = 0; y < box; y++)
    for (let x = 0; x < box; x++) {
      let s = 0;
      for (let ky = 0; ky < box; ky++)
        for (let kx = 0; kx < box; kx++) {
          const a = (2 * Math.PI * (kx * x + ky * y)) / box;
          s += re[ky * box + kx] * Math.cos(a) - im[ky * box + kx] * Math.sin(a);
        }
      out[y * box + x] = s / (box * box);
    }
  return out;
}

/** Signed frequency index of DFT bin k. */
export function freq(k: number, box: number): number {
  return k <= box / 2 ? k : k - box;
}
