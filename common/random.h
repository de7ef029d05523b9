// Unguessable random strings for capabilities, tokens and ids, from the kernel's CSPRNG.
#ifndef SRS_COMMON_RANDOM_H_
#define SRS_COMMON_RANDOM_H_

#include <cstddef>
#include <string>

namespace srs {

// `bytes` random bytes from getrandom(2) as lowercase hex (2 * bytes characters). Never returns a
// predictable value: if the kernel's generator cannot be read at all the process aborts.
std::string RandomHex(size_t bytes);

}  // namespace srs

#endif  // SRS_COMMON_RANDOM_H_
