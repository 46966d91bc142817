/** sluice/testkit: run applications in-process under fault schedules and compare with a fault-free run. */
export { type FaultArbitraryOptions, faultArb, faultScheduleArb, faultWindowArb } from './arbitraries.ts';
export { canonical, sameMultiset } from './canonical.ts';
export { type ChaosOptions, type ChaosVerdict, chaos, describeVerdict } from './chaos.ts';
export { type CompareOptions, type Difference, describeDifference, firstDifference } from './compare.ts';
export { describeFault, type Fault, FaultInjector, InjectedFault } from './faults.ts';
export type { SinkOutputs } from './output-recorder.ts';
export { runWithFaults, type TestRunOptions, type TestRunResult } from './run-with-faults.ts';
