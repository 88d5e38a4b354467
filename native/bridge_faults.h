// JS access to the fault table (fault.h) for the fault build of the addon:
// setFault(name, errno, count, skip?), clearFaults(), faultHits(name).
// addon.cc installs them only when fault::kEnabled; release addons have none.
#ifndef IOREACTOR_BRIDGE_FAULTS_H
#define IOREACTOR_BRIDGE_FAULTS_H

#include <napi.h>

namespace ioreactor {

void define_fault_api(Napi::Env env, Napi::Object exports);

}  // namespace ioreactor

#endif  // IOREACTOR_BRIDGE_FAULTS_H
