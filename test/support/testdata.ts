import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** Repository root (this file is test/support/testdata.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The shared, read-only test data beside the checkout: ../shared/testdata (see its README). */
export const TESTDATA = process.env.DFA_TESTDATA ?? join(REPO_ROOT, '..', 'shared', 'testdata');
export const CIP64_DICOM_DIR = join(TESTDATA, 'ct-chest-cip64', 'dicom');
export const CIP64_DIR = join(TESTDATA, 'ct-chest-cip64');
export const ODD_DICOM_DIR = join(TESTDATA, 'odd-dicom');
export const RTSTRUCT_DIR = join(TESTDATA, 'rtstruct');
