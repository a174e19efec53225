import { join } from 'node:path';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { agentArtifactStore } from '../agent/artifacts-from-config.ts';
import { artifactStoreFromConfig } from '../storage/artifacts-from-config.ts';
import { segmenterRegistry } from '../agent/segmenters.ts';
import { pacsFromConfig } from '../dicom/pacs-from-config.ts';
import { loadVolume } from '../dicom/volume/index.ts';
import { scpFromConfig } from '../dicom/scp/receiver.ts';
import { ReceivedJournal, ReceivedStudies } from '../dicom/scp/received.ts';
import { fhirFromConfig } from '../fhir/fhir-from-config.ts';
import { loadModelRegistry, modelDirOf } from '../ml/registry.ts';
import { dicomService } from '../services/dicom.ts';
import { fhirService } from '../services/fhir.ts';
import { mlService } from '../services/ml.ts';
import type { ServiceDefinition } from '../services/service-server.ts';
import { storageService } from '../services/storage.ts';

/**
 * The services `dfa service <name>` starts: each builds its definition (routes, upstreams) from
 * the configuration. The CLI composes them here because it may import every layer; the services
 * themselves (src/services) get their ports injected.
 */
export interface ServiceEntry {
  /** DFA_SERVICE_PORT / --port when unset. */
  readonly defaultPort: number;
  readonly summary: string;
  build(cfg: Config, log: Logger): Promise<ServiceDefinition>;
}

export const SERVICES: Readonly<Record<string, ServiceEntry>> = {
  ml: {
    defaultPort: 8091,
    summary: 'ml_processor: installed models, segmentation + QC by artifact key',
    build: async (cfg, log) => {
      const segmenters = segmenterRegistry(cfg, log);
      return mlService({
        store: agentArtifactStore(cfg), // the store the agent writes volumes to
        segment: segmenters.segment,
        models: () => loadModelRegistry(modelDirOf(cfg)),
        loadVolume: (files) => loadVolume(files),
        log,
        close: () => segmenters.close(),
      });
    },
  },
  storage: {
    defaultPort: 8092,
    summary: 'storage_service: the artifact store over HTTP',
    // Local disk or S3 (DFA_STORAGE_URL), never itself.
    build: async (cfg) => storageService({ store: artifactStoreFromConfig(cfg), maxObjectBytes: cfg.DFA_STORAGE_MAX_OBJECT_MB * 1024 * 1024 }),
  },
  dicom: {
    defaultPort: 8093,
    summary: 'dicom_handler: the PACS (DIMSE / DICOMweb) and our SCP; DICOM data by artifact key',
    build: async (cfg, log) => {
      // The store the agent shares (the same DFA_DATA_DIR, DFA_STORAGE_URL or storage service):
      // retrievals land there, stores read from there.
      const store = agentArtifactStore(cfg);
      // Pushed studies, once quiet, are published in the store and listed for the agent's standing
      // goal (GET /received), durably in DFA_DATA_DIR/received until the agent acknowledges them.
      const received = new ReceivedStudies({
        journal: await ReceivedJournal.open(join(cfg.DFA_DATA_DIR, 'received')),
        store,
        quietMs: cfg.DFA_STANDING_GOAL_QUIET_MS,
        retryMs: cfg.DFA_STANDING_RETRY_MS,
        log: log.child({ svc: 'received' }),
      });
      // Our SCP, as `dfa serve` runs it: the C-MOVE destination, and pushes into the store's inbox/.
      const scp = await scpFromConfig(cfg, { artifacts: store }, log.child({ svc: 'scp' }), (r, from) => received.received(r, from)).start();
      try {
        await received.rescan(); // what a stop cut off in its quiet time
        const pacs = await pacsFromConfig(cfg, log, { scp });
        const close = async () => {
          await received.close();
          await pacs.close();
          await scp.close();
        };
        return dicomService({ pacs, store, log, received, close });
      } catch (e) {
        await received.close();
        await scp.close();
        throw e;
      }
    },
  },
  fhir: {
    defaultPort: 8094,
    summary: 'fhir_handler: the FHIR client and its credentials; worklist, Task, results',
    build: async (cfg, log) => {
      const f = await fhirFromConfig(cfg, log);
      return fhirService({ workflow: f.workflow, probe: () => f.client.request('GET', 'metadata'), close: () => f.close() });
    },
  },
};
