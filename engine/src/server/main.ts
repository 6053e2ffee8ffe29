/**
 * Entry point of the engine child process. The extension starts it with `process.execPath` and
 * ELECTRON_RUN_AS_NODE=1 and talks over the IPC channel; a native crash here ends this process
 * only, and the extension restarts it.
 */
import { EngineServer } from './server';
import { engineHandlers } from './handlers';
import { Envelope } from '../protocol/envelope';

if (!process.send) {
  process.stderr.write('engine-server must be started with an IPC channel (child_process.fork)\n');
  process.exit(2);
}

const send = (e: Envelope) => {
  if (process.connected) process.send!(e);
};
const server = new EngineServer(engineHandlers(), send);
process.on('message', (m) => void server.receive(m));
// The parent went away: nothing is left to answer to.
process.on('disconnect', () => process.exit(0));
process.on('uncaughtException', (e) => server.log('error', `engine: uncaught ${e instanceof Error ? e.stack ?? e.message : String(e)}`));
process.on('unhandledRejection', (e) => server.log('error', `engine: unhandled rejection ${e instanceof Error ? e.message : String(e)}`));
server.log('info', `engine started (pid ${process.pid}, node ${process.version})`);
