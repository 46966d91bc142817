import { SluiceError } from '../core/errors.ts';

/** No live node runs the application's build, so its containers cannot be placed. */
export class ClusterPlacementError extends SluiceError {
  constructor(message: string) {
    super('SLUICE_CLUSTER_PLACEMENT', message);
  }
}

/** A request to the supervisor that cannot be honoured (an application launched twice, none of that name). */
export class ClusterRequestError extends SluiceError {
  constructor(message: string) {
    super('SLUICE_CLUSTER_REQUEST', message);
  }
}

/** The module launched on a cluster does not export an application by default: bad input (exit 2). */
export class NotAnApplicationError extends SluiceError {
  constructor(message: string) {
    super('SLUICE_CLUSTER_NOT_AN_APPLICATION', message);
  }
}
