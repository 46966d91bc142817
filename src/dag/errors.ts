import { SluiceError } from '../core/errors.ts';

export type DagErrorCode =
  | 'SLUICE_DUPLICATE_NAME'
  | 'SLUICE_NOT_AN_OPERATOR'
  | 'SLUICE_PORT_DISCOVERY'
  | 'SLUICE_UNKNOWN_PORT'
  | 'SLUICE_PORT_ALREADY_CONNECTED'
  | 'SLUICE_UNCONNECTED_PORT'
  | 'SLUICE_INPUT_OPERATOR_HAS_INPUT'
  | 'SLUICE_NO_INPUT'
  | 'SLUICE_NO_INPUT_OPERATOR'
  | 'SLUICE_CYCLE'
  | 'SLUICE_INVALID_ATTRIBUTE'
  | 'SLUICE_LOCALITY'
  | 'SLUICE_PARTITIONING';

/**
 * An invalid DAG. `operator` / `stream` name what is wrong so tools can point at it; `streams`, those on
 * a cycle in the order tuples flow.
 */
export class DagError extends SluiceError {
  constructor(
    override readonly code: DagErrorCode,
    message: string,
    readonly where: { operator?: string; stream?: string; streams?: string[] } = {},
  ) {
    super(code, message);
  }
}
