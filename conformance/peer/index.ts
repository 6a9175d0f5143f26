/**
 * The scripted peer: one wire-level stand-in for a server or a client, on any transport. Tests
 * script odd behaviour with it; the client-conformance kit plays the server with it.
 */
export { PeerError, type PeerErrorCode } from './errors.ts';
export {
  DEFAULT_WAIT_MS,
  PeerConnection,
  type PeerConnectionOptions,
  type Received,
} from './peer-connection.ts';
export { pythonJson } from './python-json.ts';
export {
  connectPeer,
  type PeerListenOptions,
  type Script,
  type ScriptedPeer,
  startPeer,
} from './scripted-peer.ts';
export {
  acceptJoin,
  type Delivery,
  type RoomMember,
  type RunningRoom,
  startV1Room,
  V1Room,
  type V1RoomOptions,
} from './v1-room.ts';
