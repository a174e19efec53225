import { after } from 'node:test';
import { LocalVolumeHost } from '../../src/agent/jobs/local-volume-host.ts';
import { loadVolume } from '../../src/dicom/volume/index.ts';
import { startMlOverHttp } from '../support/ml-over-http.ts';
import { volumeHostContract } from './volume-host.contract.ts';

/**
 * The VolumeHost contract in process (the agent's default) and through an ml_processor over real
 * HTTP (token auth, the store shared). The ml_processor as its own OS process, holding volumes
 * across calls and failing over between replicas: test/services/ml-service.test.ts.
 */
const { store, remote, local, close } = await startMlOverHttp({ tmpPrefix: 'dfa-volume-host-', readsDicom: true });
after(close);

volumeHostContract('in process', 'local', async () => ({ host: new LocalVolumeHost({ store, loadVolume: (f) => loadVolume(f), segment: local.segment }), store, reference: local.segment }));
volumeHostContract('ml_processor over HTTP', 'remote', async () => ({ host: remote.volumes, store, reference: local.segment }));
