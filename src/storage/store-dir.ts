/**
 * The folder an application's store gets by default (`./.sluice/<app name>`, or `<DIR>/<app name>` under a
 * cluster supervisor's --store): one folder, inside that parent, whatever the name. Application names
 * may hold `/`, `\` or be `.` or `..`; those are percent-encoded so that a store never lands beside the
 * parent, in it, or under another application's. Other names are the folder name as they are, so the
 * stores of existing applications are found where they always were.
 */
export function storeDirName(applicationName: string): string {
  const escaped = applicationName.replace(/[%/\\]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return escaped === '.' || escaped === '..' ? escaped.replaceAll('.', '%2E') : escaped;
}

/** The store an application gets without --store: `.sluice/<app name>`, relative to the working directory. */
export function defaultStoreDir(applicationName: string): string {
  return `.sluice/${storeDirName(applicationName)}`;
}
