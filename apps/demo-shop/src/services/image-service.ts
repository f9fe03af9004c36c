import type { Product } from '../db/repository.ts';
import { chance, type Faults, latency, TransientServiceError } from './faults.ts';

/**
 * A fake image service: "resizes" a product photo by drawing an SVG of the requested width.
 * Bigger sizes take longer, so the fan-out's parallelism is visible.
 */
export class ImageService {
  readonly #faults: Faults;

  constructor(faults: Faults) {
    this.#faults = faults;
  }

  async resize(product: Product, size: number, signal?: AbortSignal): Promise<string> {
    await latency(this.#faults, signal, size / 320);
    if (chance(this.#faults.imageFailureRate)) {
      throw new TransientServiceError('image', `resizer crashed on ${size}px`);
    }
    const font = Math.max(8, Math.round(size / 10));
    const label = escapeXml(product.name);
    return (
      `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}">` +
      `<rect width="100%" height="100%" rx="${size / 12}" fill="${escapeXml(product.color)}"/>` +
      `<text x="50%" y="50%" font-family="sans-serif" font-size="${font}" fill="#fff" ` +
      `text-anchor="middle" dominant-baseline="middle">${label} · ${size}px</text></svg>`
    );
  }
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
