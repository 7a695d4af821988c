/**
 * The firmware of the fleet benchmarks (bench:fleet in mqtt-paths.ts, bench:cluster in
 * cluster-fleet.ts): the bring-up and telemetry loop of fixtures/drive/quectel-ec200-telemetry.at
 * reduced to the MQTT path being measured (that script also polls registration and AT+CSQ and
 * obeys a command topic), fixed here so the figures stay comparable as the fixture grows. Each
 * modem publishes one QoS 1 reading every `periodMs` (± a tenth). The send time is taken when
 * the payload goes out (after the prompt), not before the command: the declared length is that
 * of a 13-digit millisecond time.
 */
export function fleetTelemetryScript(periodMs = 1000): string {
  return [
    '@profile quectel-ec200',
    '@timeout 30000',
    '@onerror connect',
    '@on ^\\+QMTSTAT: 0,\\d+$ goto connect',
    '@on ^RDY$ goto start',
    '@label start',
    '> ATE0',
    '< OK',
    '@label connect',
    '> AT+QMTCLOSE=0',
    '@wait 100',
    '> AT+QMTOPEN=0,"iot.example.com",1883',
    '<~ ^\\+QMTOPEN: 0,[02]$',
    '> AT+QMTCONN=0,"${name}-${imei}"',
    '<~ ^\\+QMTCONN: 0,0,0$',
    `@repeat forever every ${periodMs} jitter ${Math.round(periodMs / 10)}`,
    '  @let reading {"imei":"${imei}","seq":${seq},"time":0000000000000}',
    '  > AT+QMTPUBEX=0,1,1,0,"fleet/${imei}/telemetry",${#reading}',
    '  < >',
    '  >> {"imei":"${imei}","seq":${seq},"time":${time}}',
    '  <~ ^\\+QMTPUBEX: 0,1,0$',
    '@end',
    '',
  ].join('\n');
}
