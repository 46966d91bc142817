/** What travels on a channel: window markers in-band with batches of tuples. */
export const BEGIN = 0;
export const DATA = 1;
export const END = 2;

export type Message =
  | { readonly kind: typeof BEGIN; readonly window: number }
  | { readonly kind: typeof DATA; readonly window: number; readonly tuples: unknown[] }
  | { readonly kind: typeof END; readonly window: number };
