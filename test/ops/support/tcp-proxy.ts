// A TCP proxy in front of a real server that can be switched to "black hole": it keeps accepting
// connections and stops answering on all of them, like a server that hangs or a network that drops packets.
import { createServer, connect, type Socket } from 'node:net';

export type ProxyMode = 'forward' | 'black-hole';

export interface TcpProxy {
  port: number;
  setMode(mode: ProxyMode): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }, mode: ProxyMode = 'forward'): Promise<TcpProxy> {
  let current = mode;
  /** Client sockets that get no answer; ended with a reset when forwarding resumes, as after an outage. */
  const frozen = new Set<Socket>();
  const pairs = new Map<Socket, Socket>();
  const everything = new Set<Socket>();
  const track = (socket: Socket) => {
    everything.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      everything.delete(socket);
      frozen.delete(socket);
      pairs.delete(socket);
    });
  };
  const freeze = (client: Socket) => {
    const upstream = pairs.get(client);
    if (upstream) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      upstream.pause();
    }
    client.pause();
    frozen.add(client);
  };

  const server = createServer((client) => {
    track(client);
    if (current === 'black-hole') return freeze(client);
    const upstream = connect(target.port, target.host);
    track(upstream);
    pairs.set(client, upstream);
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    setMode(next) {
      current = next;
      if (next === 'black-hole') for (const client of pairs.keys()) freeze(client);
      else for (const client of frozen) client.destroy();
    },
    async close() {
      for (const socket of everything) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
