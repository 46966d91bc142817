/**
 * Cascading unifier layers for `n` partitions with at most `limit` inputs per unifier (Apex's
 * UNIFIER_LIMIT): each layer lists, per unifier, the indices of the previous layer it reads
 * (layer 0 reads the partitions). 256 partitions at a limit of 8 give layers of 32, 4 and 1 unifiers.
 */
export function unifierLayers(n: number, limit: number): number[][][] {
  const layers: number[][][] = [];
  let width = n;
  do {
    const groups = Math.ceil(width / limit);
    const size = Math.ceil(width / groups);
    const layer: number[][] = [];
    for (let g = 0; g < groups; g++) {
      const inputs: number[] = [];
      for (let i = g * size; i < Math.min(width, (g + 1) * size); i++) inputs.push(i);
      layer.push(inputs);
    }
    layers.push(layer);
    width = groups;
  } while (width > 1);
  return layers;
}
