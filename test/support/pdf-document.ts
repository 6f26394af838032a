import { createCanvas, loadImage } from '@napi-rs/canvas';
import jsQRModule from 'jsqr';
import { PDFParse } from 'pdf-parse';

// jsqr is CommonJS with an ES-style default in its types: take the function whichever way it arrives.
const jsQR = ((jsQRModule as unknown as { default?: typeof jsQRModule }).default ?? jsQRModule) as unknown as (
  data: Uint8ClampedArray,
  width: number,
  height: number,
) => { data: string } | null;

/** What a person sees in a PDF: its text, page count, and what a phone reads from the QR code on page 1. */
export interface ReadPdf {
  readonly text: string;
  readonly pages: number;
  readonly qr: string | null;
}

/** Renders the PDF (pdf.js) and reads it as a person would: the text, and the QR code scanned from the picture. */
export async function readPdf(content: Uint8Array): Promise<ReadPdf> {
  const parser = new PDFParse({ data: Buffer.from(content) });
  try {
    const text = await parser.getText();
    const shot = await parser.getScreenshot({ scale: 3, first: 1 });
    const page = shot.pages[0]!;
    const image = await loadImage(Buffer.from(page.data));
    const canvas = createCanvas(image.width, image.height);
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    const pixels = context.getImageData(0, 0, image.width, image.height);
    const qr = jsQR(new Uint8ClampedArray(pixels.data), image.width, image.height);
    return { text: text.text, pages: text.total, qr: qr?.data ?? null };
  } finally {
    await parser.destroy();
  }
}
