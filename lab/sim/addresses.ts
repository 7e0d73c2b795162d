// The client's addresses on the simulator's TUN device.
export const CLIENT_V4 = '198.18.0.2';
export const CLIENT_V6 = '2001:2::2';
