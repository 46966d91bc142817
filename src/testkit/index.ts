/** sluice/testkit: run applications in-process under fault schedules and compare with a fault-free run. */
export {
  containerFaultArb,
  cutArb,
  cutScheduleArb,
  type FaultArbitraryOptions,
  faultArb,
  faultScheduleArb,
  faultWindowArb,
} from './arbitraries.ts';
export { canonical, sameMultiset } from './canonical.ts';
export {
  type ChaosOptions,
  type ChaosProgress,
  type ChaosVerdict,
  chaos,
  describeVerdict,
} from './chaos.ts';
export {
  type CompareOptions,
  type Difference,
  describeDifference,
  firstDifference,
  streamOf,
} from './compare.ts';
export {
  type ContainerFault,
  type CutFault,
  describeFault,
  type Fault,
  FaultInjector,
  InjectedFault,
  isContainerFault,
  isCut,
} from './faults.ts';
export type { SinkOutputs } from './output-recorder.ts';
export {
  runWithFaults,
  type TestRunOptions,
  type TestRunResult,
  type WindowBoundaries,
} from './run-with-faults.ts';
