export { freePort } from '../../src/agent/free-port.ts';
