/**
 * The AT commands each vendor manual defines (a section of its own with the command's syntax),
 * extracted once from the manual texts (shared/specs/<file>, the files the profiles' `manual.file`
 * names) and kept here as data: `vmodem profiles <id> --commands` (src/check/coverage.ts) prints
 * them against the commands vmodem implements, and a test checks that none is missing from that
 * table. Commands a manual only mentions in passing (AT+QSSLCFG and AT+QFUPL in the EC200
 * manual's SSL example, AT+QSCLK in the BC260Y example, AT+MLPMCFG in a OneMO note, AT+CMEE in
 * the result-code chapters) are not listed: the manuals do not define them.
 *
 * Names are given as the command is really spelt where a scan slipped (`AT+QMTCLOSE` for the
 * EC200 manual's `AT+QMTCCLOSE` heading; the YUGE manual's table of contents drops the `I` of
 * `AT+IMQTT…` that its command sections print).
 */

export interface ManualCommand {
  /** As the engine names it: `+QMTCFG`. */
  name: string;
  /** The manual's section. */
  section: string;
}

export interface ManualCommands {
  title: string;
  commands: ManualCommand[];
}

const list = (entries: [string, string][]): ManualCommand[] => entries.map(([section, name]) => ({ section, name }));

/** By manual file (profile `manual.file`). */
export const MANUAL_COMMANDS: Record<string, ManualCommands> = {
  'quectel-ec200-mqtt.txt': {
    title: 'Quectel LTE Standard(A) 系列 MQTT 应用指导 v1.3, chapter 3.3',
    commands: list([
      ['3.3.1', '+QMTCFG'],
      ['3.3.2', '+QMTOPEN'],
      ['3.3.3', '+QMTCLOSE'],
      ['3.3.4', '+QMTCONN'],
      ['3.3.5', '+QMTDISC'],
      ['3.3.6', '+QMTSUB'],
      ['3.3.7', '+QMTUNS'],
      ['3.3.8', '+QMTPUBEX'],
      ['3.3.9', '+QMTRECV'],
    ]),
  },
  'quectel-bc260y-mqtt.txt': {
    title: 'Quectel BC260Y-CN MQTT 应用指导 v1.0, chapter 3.3',
    commands: list([
      ['3.3.1', '+QMTCFG'],
      ['3.3.2', '+QMTOPEN'],
      ['3.3.3', '+QMTCLOSE'],
      ['3.3.4', '+QMTCONN'],
      ['3.3.5', '+QMTDISC'],
      ['3.3.6', '+QMTSUB'],
      ['3.3.7', '+QMTUNS'],
      ['3.3.8', '+QMTPUB'],
    ]),
  },
  'cmiot-onemo-mqtt.txt': {
    title: 'OneMO MQTT用户手册 V6.7.0, chapter 3',
    commands: list([
      ['3.1', '+MQTTCFG'],
      ['3.2', '+MQTTCONN'],
      ['3.3', '+MQTTSUB'],
      ['3.4', '+MQTTUNSUB'],
      ['3.5', '+MQTTPUB'],
      ['3.6', '+MQTTREAD'],
      ['3.7', '+MQTTSTATE'],
      ['3.8', '+MQTTDISC'],
    ]),
  },
  'tencent-qcloud-at.txt': {
    title: '腾讯云 IoT MQTT AT 指令 V3.1.3, chapters 2–4',
    commands: list([
      ['2.1', '+TCREGNET'],
      ['2.2', '+TCDEVINFOSET'],
      ['2.3', '+TCCERTADD'],
      ['2.4', '+TCCERTCHECK'],
      ['2.5', '+TCCERTDEL'],
      ['2.6', '+TCPRDINFOSET'],
      ['2.7', '+TCDEVREG'],
      ['2.8', '+TCMODULE'],
      ['2.9', '+TCRESTORE'],
      ['3.1', '+TCMQTTCONN'],
      ['3.2', '+TCMQTTDISCONN'],
      ['3.3', '+TCMQTTPUB'],
      ['3.4', '+TCMQTTPUBL'],
      ['3.5', '+TCMQTTSUB'],
      ['3.6', '+TCMQTTUNSUB'],
      ['3.7', '+TCMQTTSTATE'],
      ['4.1', '+TCOTASET'],
      ['4.2', '+TCFWINFO'],
      ['4.3', '+TCREADFWDATA'],
    ]),
  },
  'yuge-clm920-mqtt.txt': {
    title: 'CLM920_RC3(AC3) MQTT AT Command Manual V1.06, chapter 2',
    commands: list([
      ['2.1', '+IMQTTMODE'],
      ['2.2', '+IMQTTPARA'],
      ['2.3', '+IMQTTUSER'],
      ['2.4', '+IMQTTADDR'],
      ['2.5', '+IMQTTLWT'],
      ['2.6', '+IMQTTLWTBIN'],
      ['2.7', '+IMQTTCONN'],
      ['2.8', '+IMQTTDISCONN'],
      ['2.9', '+IMQTTSUB'],
      ['2.10', '+IMQTTUNSUB'],
      ['2.11', '+IMQTTPUB'],
      ['2.12', '+IMQTTPUBIN'],
      ['2.13', '+MQTTPUBEX'],
      ['2.14', '+IMQTTSTATE'],
      ['2.15', '+IMQTTAUTH'],
      ['2.16', '+IMQTTDYNREG'],
      ['2.17', '+IMQTTRECVMODE'],
      ['2.18', '+IMQTTRECV'],
    ]),
  },
};
