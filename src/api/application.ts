import type { ApplicationAttributes } from '../dag/attributes.ts';
import { DagBuilder } from '../dag/dag-builder.ts';
import type { LogicalDag } from '../dag/logical-dag.ts';
import { checkApplicationAttributes, validateDag } from '../dag/validate.ts';
import { planPhysical } from '../plan/planner.ts';

export interface Application {
  readonly name: string;
  readonly attributes: ApplicationAttributes;
  /** Builds and validates the logical DAG (throws DagError). */
  dag(): LogicalDag;
}

/** Declares an application: a name, the function that wires its DAG, and its attributes. */
export function application(
  name: string,
  build: (dag: DagBuilder) => void,
  attributes: ApplicationAttributes = {},
): Application {
  return {
    name,
    attributes,
    dag() {
      checkApplicationAttributes(name, attributes);
      const builder = new DagBuilder(name);
      build(builder);
      const dag = builder.build();
      validateDag(dag);
      planPhysical(dag); // partition and locality conflicts are found by planning: report them here too
      return dag;
    },
  };
}

export function isApplication(value: unknown): value is Application {
  const v = value as Partial<Application> | null;
  return typeof v === 'object' && v !== null && typeof v.name === 'string' && typeof v.dag === 'function';
}
