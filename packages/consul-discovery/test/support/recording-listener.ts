import * as grpc from '@grpc/grpc-js';
import { ConsulResolver } from '../../src/discovery/consul-resolver.js';

/** What a resolver handed grpc-js: endpoints ("127.0.0.1:port" lists) or an error's details. */
export type Push =
  { readonly endpoints: string[]; readonly note: string; readonly at: number } | { readonly error: string; readonly at: number };

/** A ConsulResolver built as grpc-js builds one, with a listener that records every push. */
export function recordingResolver(target: string, channelOptions: grpc.ChannelOptions = {}): { resolver: ConsulResolver; pushes: Push[] } {
  const pushes: Push[] = [];
  const match = /^consul:\/\/([^/]*)\/(.*)$/.exec(target);
  const uri = { scheme: 'consul', authority: match?.[1] ?? '', path: match?.[2] ?? '' };
  const listener: grpc.experimental.ResolverListener = (endpoints, _attributes, _serviceConfig, note) => {
    if (endpoints.ok) {
      pushes.push({
        endpoints: endpoints.value.flatMap((e) => e.addresses.map((a) => ('port' in a ? `${a.host}:${a.port}` : String(a)))),
        note,
        at: Date.now(),
      });
    } else {
      pushes.push({ error: endpoints.error.details, at: Date.now() });
    }
    return true;
  };
  return { resolver: new ConsulResolver(uri, listener, channelOptions), pushes };
}
