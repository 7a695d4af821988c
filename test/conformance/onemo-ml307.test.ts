/** Conformance and fuzz cases on onemo-ml307 (suite.ts; replay: FUZZ_SEED=… FUZZ_PATH=… npx vitest run this file). */
import { conformanceSuite } from './suite.js';

conformanceSuite('onemo-ml307');
