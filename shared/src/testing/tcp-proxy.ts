/**
 * A TCP proxy in front of a database, for tests of what a service does when its database fails:
 * `pass` forwards both ways; `freeze` keeps every connection open but forwards nothing (a database
 * that hangs); `refuse` closes each new connection at once (one that refuses connections);
 * `dropAll()` cuts the connections already open (a restart, a network cut).
 */
import type { Socket, TCPSocketListener } from 'bun';

export type ProxyMode = 'pass' | 'freeze' | 'refuse';

interface Side {
  peer?: Socket<Side>;
  /** Bytes waiting to be written to this socket: it was full, or (the upstream side) not connected yet. */
  queue: Uint8Array[];
  /** On the client's side: the upstream side's queue, filled before the upstream is connected. */
  upstreamQueue?: Uint8Array[];
}

/** Writes what the socket takes now of its queue (after `chunk`), and keeps the rest for its `drain`. */
function send(socket: Socket<Side>, chunk?: Uint8Array) {
  const { queue } = socket.data;
  if (chunk) queue.push(chunk);
  while (queue.length) {
    const head = queue[0]!;
    const written = socket.write(head);
    if (written === head.length) queue.shift();
    else {
      queue[0] = head.subarray(Math.max(written, 0));
      return;
    }
  }
}

/**
 * @example
 * const proxy = await startTcpProxy({ host: '127.0.0.1', port: 3306 });
 * proxy.set('freeze'); // queries through proxy.port now hang
 */
export async function startTcpProxy(upstream: { host: string; port: number }) {
  let mode: ProxyMode = 'pass';
  const open = new Set<Socket<Side>>();
  const listener: TCPSocketListener<Side> = Bun.listen<Side>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      async open(client) {
        const toUpstream: Uint8Array[] = [];
        client.data = { queue: [], upstreamQueue: toUpstream };
        if (mode === 'refuse') return void client.end();
        open.add(client);
        try {
          const server = await Bun.connect<Side>({
            hostname: upstream.host,
            port: upstream.port,
            socket: {
              open(socket) {
                socket.data = { peer: client, queue: toUpstream };
              },
              data(_socket, chunk) {
                if (mode !== 'freeze') send(client, new Uint8Array(chunk));
              },
              drain(socket) {
                send(socket);
              },
              close() {
                client.end();
              },
              error() {
                client.end();
              },
            },
          });
          open.add(server);
          client.data.peer = server;
          send(server);
        } catch {
          client.end();
        }
      },
      data(client, chunk) {
        if (mode === 'freeze') return;
        const server = client.data.peer;
        if (server) send(server, new Uint8Array(chunk));
        else client.data.upstreamQueue?.push(new Uint8Array(chunk));
      },
      drain(client) {
        send(client);
      },
      close(client) {
        open.delete(client);
        client.data.peer?.end();
      },
      error(client) {
        client.data.peer?.end();
      },
    },
  });

  return {
    port: listener.port,
    /** `url` with its host and port replaced by the proxy's. */
    urlFor(url: string): string {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(listener.port);
      return parsed.toString();
    },
    set(next: ProxyMode) {
      mode = next;
    },
    dropAll() {
      for (const socket of open) socket.end();
      open.clear();
    },
    close() {
      this.dropAll();
      listener.stop(true);
    },
  };
}
export type TcpProxy = Awaited<ReturnType<typeof startTcpProxy>>;
