import { h, render } from 'preact';
import htm from 'htm';

/** Preact with htm's tagged templates: components without a JSX build step. */
export const html = htm.bind(h);
export { render };
export { useEffect, useMemo, useRef, useState, useCallback } from 'preact/hooks';

/** Draws the page's component in place of the shell's loading line. */
export function mount(vnode: ReturnType<typeof html>): void {
  const root = document.getElementById('app')!;
  root.textContent = '';
  render(vnode, root);
}
