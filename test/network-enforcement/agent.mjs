// Runs inside one network namespace of the enforcement test (`ip netns exec <ns> node agent.mjs ...`): serves TCP and
// UDP on its addresses and opens connections on request, so one process per namespace does both ends.
//
//   node agent.mjs <name> <ip,ip,...> <tcp ports,...> <udp ports,...>
//
// Prints {"ready":true} once every socket listens. Then reads probes from stdin, one JSON per line:
//   {"id":1,"proto":"tcp"|"udp","host":"10.244.1.10","port":8080,"sourcePort":20001,"timeoutMs":1000}
// and answers {"id":1,"outcome":"connected"|"dropped"|"refused"|"error","reply":"<name> <ip>:<port>"|"<error>"}.
// "connected" needs the peer's greeting, so a reply from anything but the intended listener shows up in `reply`.
import { createSocket } from 'node:dgram';
import { createConnection, createServer } from 'node:net';
import process from 'node:process';
import { createInterface } from 'node:readline';
import { clearTimeout, setTimeout } from 'node:timers';

const [name, ipList, tcpList, udpList] = process.argv.slice(2);
const split = (list) => (list ? list.split(',').filter(Boolean) : []);
const ips = split(ipList);
const tcpPorts = split(tcpList).map(Number);
const udpPorts = split(udpList).map(Number);

const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

function listenTcp(ip, port) {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      socket.on('error', () => {});
      socket.end(`${name} ${ip}:${port}\n`);
    });
    server.once('error', reject);
    server.listen({ host: ip, port }, resolve);
  });
}

// Bound to each address, not 0.0.0.0: an answer must leave from the address the probe was sent to.
function listenUdp(ip, port) {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.on('message', (_msg, from) => socket.send(`${name} ${ip}:${port}\n`, from.port, from.address));
    socket.once('error', reject);
    socket.bind({ address: ip, port }, resolve);
  });
}

function probeTcp(host, port, sourcePort, timeoutMs) {
  return new Promise((resolve) => {
    let data = '';
    const socket = createConnection({ host, port, localPort: sourcePort });
    const done = (outcome, reply) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ outcome, reply });
    };
    const timer = setTimeout(() => done(data ? 'error' : 'dropped', data ? `partial greeting ${data}` : 'no answer'), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      data += chunk;
      if (data.includes('\n')) done('connected', data.trim());
    });
    socket.on('error', (err) => done(err.code === 'ECONNREFUSED' ? 'refused' : 'error', err.code ?? String(err)));
    socket.on('end', () => done('error', `closed without a greeting (${data})`));
  });
}

function probeUdp(host, port, sourcePort, timeoutMs) {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const done = (outcome, reply) => {
      clearTimeout(timer);
      socket.close();
      resolve({ outcome, reply });
    };
    const timer = setTimeout(() => done('dropped', 'no answer'), timeoutMs);
    socket.on('message', (msg) => done('connected', msg.toString('utf8').trim()));
    // A connected UDP socket reports ICMP port unreachable as ECONNREFUSED.
    socket.on('error', (err) => done(err.code === 'ECONNREFUSED' ? 'refused' : 'error', err.code ?? String(err)));
    socket.bind(sourcePort, () => socket.connect(port, host, () => socket.send('probe')));
  });
}

try {
  await Promise.all(ips.flatMap((ip) => [...tcpPorts.map((p) => listenTcp(ip, p)), ...udpPorts.map((p) => listenUdp(ip, p))]));
} catch (err) {
  send({ ready: false, error: String(err) });
  process.exit(1);
}
send({ ready: true });

createInterface({ input: process.stdin }).on('line', async (line) => {
  const { id, proto, host, port, sourcePort, timeoutMs } = JSON.parse(line);
  const probe = proto === 'udp' ? probeUdp : probeTcp;
  const result = await probe(host, port, sourcePort, timeoutMs);
  send({ id, ...result });
});
// The test closes stdin (or kills us) when it is done.
process.stdin.on('end', () => process.exit(0));
