/**
 * String.prototype.isWellFormed (Node 20): no lone surrogate, so UTF-8 (CBOR text, a text column) gives
 * the string back exactly. Called through a cast because the projects that compile sluice's sources
 * (`sluice new`) may target an ES2023 library without it.
 */
export const isWellFormed = (s: string): boolean =>
  (s as unknown as { isWellFormed(): boolean }).isWellFormed();
