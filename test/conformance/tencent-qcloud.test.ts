/** Conformance and fuzz cases on tencent-qcloud (suite.ts; replay: FUZZ_SEED=… FUZZ_PATH=… npx vitest run this file). */
import { conformanceSuite } from './suite.js';

conformanceSuite('tencent-qcloud');
