import * as path from 'node:path';

/** Repository root, from test/unit/helpers. */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
/** `../shared/realdata` beside the checkout (CI lays shared/ beside the clone). */
export const REALDATA = path.resolve(REPO_ROOT, '../shared/realdata');
