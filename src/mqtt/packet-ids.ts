/**
 * The packet identifier after `last` (1–65535, wrapping) that `inUse` does not hold
 * [MQTT-2.3.1-1, -2]: modules that number their own packets count up and skip ids in flight.
 */
export function nextPacketId(last: number, inUse: (id: number) => boolean): number {
  let id = last;
  for (let i = 0; i < 65535; i++) {
    id = (id % 65535) + 1;
    if (!inUse(id)) return id;
  }
  throw new Error('no free packet id: 65535 packets in flight');
}
