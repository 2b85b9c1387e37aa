/**
 * A seeded pseudo-random source so a simulated plant is the same on every run with the same seed. Hand-written
 * (mulberry32 plus Box–Muller): a few lines, and a library would add a dependency for no gain.
 */
export interface SeededRandom {
  /** Uniform in [0, 1). */
  next(): number;
  /** Normally distributed with mean 0 and the given standard deviation. */
  gaussian(deviation?: number): number;
}

/** Creates a seeded random source. */
export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    gaussian(deviation = 1) {
      const u = Math.max(next(), 1e-12);
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next()) * deviation;
    },
  };
}
