// Minimal typings for the reference implementation used by the unit tests (the package ships none).
declare module 'murmurhash3js-revisited' {
  export const x86: {
    hash32(bytes: ArrayLike<number>, seed?: number): number;
  };
}
