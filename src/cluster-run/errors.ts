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
