/**
 * The control center needs no browser permission: no camera, notifications, clipboard
 * read, geolocation, HID, serial, USB or anything else. Every request and every check
 * is refused, including permissions Electron adds in later versions.
 */
export function permissionDecision(_permission: string): false {
  return false;
}
