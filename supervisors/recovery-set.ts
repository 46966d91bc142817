// In src/plan (the container runtime names the same recovery set in its restart lines); kept here for
// the supervisors that import it.
export { recoveryScope, recoverySet } from '../src/plan/recovery-set.ts';
