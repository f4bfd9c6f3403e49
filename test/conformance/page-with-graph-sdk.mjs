// Pages through the simulator with Microsoft's own Graph SDK (PageIterator) over HTTPS, signed in with
// @azure/identity, and prints what it saw as JSON. Run by conformance.test.ts in a child process that trusts the
// simulator's CA through NODE_EXTRA_CA_CERTS, as a real client would trust a real certificate.
import { ClientSecretCredential } from '@azure/identity'
import { Client, PageIterator } from '@microsoft/microsoft-graph-client'

const [url, tenant] = process.argv.slice(2)
const credential = new ClientSecretCredential(tenant, 'offboard-sim', 'offboard-sim-secret', {
  authorityHost: url,
  disableInstanceDiscovery: true,
})
const token = (await credential.getToken('https://graph.microsoft.com/.default')).token
const host = new URL(url).hostname
// customHosts: the SDK sends the token only to hosts it knows; the simulator is one.
const client = Client.init({
  baseUrl: `${url}/`,
  defaultVersion: 'v1.0',
  customHosts: new Set([host]),
  authProvider: (done) => done(null, token),
})

const out = {}
for (const path of [
  '/devices',
  '/deviceManagement/managedDevices',
  '/deviceManagement/windowsAutopilotDeviceIdentities',
]) {
  const ids = []
  let pages = 1
  const first = await client.api(path).top(25).get()
  const iterator = new PageIterator(client, first, (item) => {
    ids.push(item.id)
    return true
  })
  const original = iterator.fetchAndUpdateNextPageData?.bind(iterator)
  if (original) {
    iterator.fetchAndUpdateNextPageData = async () => {
      pages++
      return original()
    }
  }
  await iterator.iterate()
  out[path] = { ids, pages }
}
process.stdout.write(JSON.stringify(out))
