/** Starts the autoscaler: `bun infra/swarm/autoscaler/main.ts [--dry-run]`. */
import { loadConfig } from '@bookstore/shared/config';
import { every } from '@bookstore/shared/jobs';
import { createLogger } from '@bookstore/shared/log';
import { createServiceApp, serve } from '@bookstore/shared/service';
import { createAutoscaler } from './autoscaler.ts';
import { autoscalerConfigSchema, policyFromConfig } from './config.ts';
import { createDockerClient } from './docker.ts';

if (process.argv.includes('--help')) {
  console.log(`Usage: bun infra/swarm/autoscaler/main.ts [--dry-run]

Scales replicated Swarm services labelled bookstore.autoscale=true: one step up when their tasks'
average CPU stayed above SCALE_UP_ABOVE_PERCENT for SCALE_UP_WINDOW_SECONDS, one step down when it
stayed below SCALE_DOWN_BELOW_PERCENT for SCALE_DOWN_WINDOW_SECONDS, within min/max, with a cooldown.
--dry-run (or DRY_RUN=true) logs the decisions and changes nothing. Variables: infra/swarm/autoscaler/README.md`);
  process.exit(0);
}

const config = loadConfig(autoscalerConfigSchema);
const dryRun = config.DRY_RUN || process.argv.includes('--dry-run');
const log = createLogger({ service: 'autoscaler', level: config.LOG_LEVEL });
const sampleMs = config.SAMPLE_SECONDS * 1000;
// Stats calls must end well within the interval: a pass that overruns leaves a gap in every series.
const docker = createDockerClient({ host: config.DOCKER_HOST, sampleEngines: config.SAMPLE_ENGINES, statsTimeoutMs: Math.min(5000, sampleMs * 0.4) });
const autoscaler = createAutoscaler({ docker, config, log, dryRun });

const sampler = every('autoscale', sampleMs, () => autoscaler.pass(), { log, jitter: 0 });
void sampler.runNow();

const app = createServiceApp({
  service: 'autoscaler',
  log,
  // The container's HEALTHCHECK (`/health/task`) asks whether the loop still completes passes: a
  // stuck one is worth a restart. `/health/ready` also says whether the engine answers.
  taskChecks: ['sampling'],
  readiness: {
    docker: () => docker.manager.request('GET', '/_ping'),
    sampling: async () => {
      const last = autoscaler.lastPassAt();
      if (last === undefined || Date.now() - last > 3 * sampleMs + 10_000) throw new Error('no complete pass lately');
    },
  },
});
log.info('started', {
  dryRun,
  label: config.AUTOSCALE_LABEL,
  dockerHost: config.DOCKER_HOST,
  sampleEngines: config.SAMPLE_ENGINES.length ? config.SAMPLE_ENGINES : [config.DOCKER_HOST],
  sampleSeconds: config.SAMPLE_SECONDS,
  policy: policyFromConfig(config),
});
serve(app, { port: config.PORT, hostname: config.HOST, log, beforeStop: () => sampler.stop() });
