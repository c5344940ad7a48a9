/** The executor the configuration asks for. */
import type { ExecutorConfig } from '../../config.js';
import type { Executor } from '../executor.js';
import { CommandExecutor } from './command.js';
import { QlikCloudExecutor } from './qlik-cloud.js';
import { SimulatedExecutor } from './simulated.js';
import { WebhookExecutor } from './webhook.js';

export function createExecutor(config: ExecutorConfig): Executor {
  switch (config.kind) {
    case 'simulated':
      return new SimulatedExecutor({ durationMs: config.durationMs, failureRate: config.failureRate });
    case 'qlik-cloud':
      return new QlikCloudExecutor(config);
    case 'webhook':
      return new WebhookExecutor(config);
    case 'command':
      return new CommandExecutor(config);
    default: {
      const unknown: never = config;
      throw new Error(`unknown executor kind: ${(unknown as { kind: string }).kind}`);
    }
  }
}
