// Preloaded into every test process by scripts/run-tests.mjs: when FUZZ_SEED is set, every
// fast-check property of the suite runs from that seed (the run prints it; set it again to replay).
import fc from 'fast-check';

const seed = process.env.FUZZ_SEED;
if (/^-?\d+$/.test(seed ?? '')) fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: Number(seed) });
