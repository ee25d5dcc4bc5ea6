import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadHelloProto } from '../../packages/contracts/hello.js';
import { ROOT } from './paths.js';

/** What one SayHello(1 + 2) got: its sum, or its error. */
export type HelloOutcome = { readonly result: number } | { readonly error: grpc.ServiceError | null };

/** The lab's client certificate, as the client container presents it (mutual TLS). */
export function labClientCredentials(): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(
    readFileSync(join(ROOT, '.secrets/ca.pem')),
    readFileSync(join(ROOT, '.secrets/client-key.pem')),
    readFileSync(join(ROOT, '.secrets/client.pem')),
  );
}

function helloClientAt(address: string, credentials: grpc.ChannelCredentials) {
  // The instances' certificates name the service, not their addresses.
  return new (loadHelloProto().hello.HelloService)(address, credentials, { 'grpc.ssl_target_name_override': 'HelloService' });
}

function sayHello(client: ReturnType<typeof helloClientAt>, deadlineMs: number): Promise<HelloOutcome> {
  return new Promise((resolve) =>
    client.SayHello({ name: 'caller', num1: 1, num2: 2 }, { deadline: Date.now() + deadlineMs }, (error, answer) =>
      resolve(answer ? { result: answer.result } : { error }),
    ),
  );
}

/** One SayHello(1 + 2) to `address` on a channel of its own. */
export async function sayHelloAt(address: string, credentials: grpc.ChannelCredentials, deadlineMs = 5_000): Promise<HelloOutcome> {
  const client = helloClientAt(address, credentials);
  try {
    return await sayHello(client, deadlineMs);
  } finally {
    client.close();
  }
}

export interface DirectCall {
  /** Epoch ms it was sent. */
  readonly at: number;
  readonly tookMs: number;
  /** 'ok' for a correct sum, else the gRPC status's name (or 'WRONG' for another sum). */
  readonly outcome: string;
}

/**
 * Makes `call` every `everyMs` until stopped, each call on its own and timed:
 * what a network fault does to one server's wire, seen past Consul and the
 * lab's client, whatever the client's call policy hides.
 */
export class DirectProbe {
  readonly calls: DirectCall[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<void>>();

  /** `call` resolves to 'ok' or the name of what went wrong; it never rejects. */
  constructor(call: () => Promise<string>, { everyMs = 250 } = {}) {
    this.timer = setInterval(() => {
      const at = Date.now();
      const made = call().then((outcome) => {
        this.calls.push({ at, tookMs: Date.now() - at, outcome });
      });
      this.inFlight.add(made);
      void made.finally(() => this.inFlight.delete(made));
    }, everyMs);
  }

  /** The calls sent within [fromMs, toMs]. */
  between(fromMs: number, toMs: number): DirectCall[] {
    return this.calls.filter((call) => call.at >= fromMs && call.at <= toMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.inFlight);
  }
}

/**
 * SayHello(1 + 2) straight to one instance's address, each on a channel of
 * its own, as a new caller's: one long-lived channel would carry its
 * reconnect backoff from one fault into the next and fail at once, without
 * trying the wire. 'ok', 'WRONG' for another sum, or the gRPC status's name.
 */
export function helloCallTo(address: string, deadlineMs = 2_000): () => Promise<string> {
  const credentials = labClientCredentials();
  return async () => outcomeOf(await sayHelloAt(address, credentials, deadlineMs));
}

function outcomeOf(answer: HelloOutcome): string {
  if ('result' in answer) return answer.result === 3 ? 'ok' : 'WRONG';
  return grpc.status[answer.error?.code ?? grpc.status.UNKNOWN] ?? 'UNKNOWN';
}
