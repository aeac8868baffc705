/* clfit status codes: one table gives the enum, the names and the messages.
 *
 * Every library function that can fail returns a clf_status. CLF_OK is 0.
 * The details of a failure (which file, which tensor, which OpenCL call)
 * are logged through the logger (log.h) at the point where it happened;
 * the status says only what kind of failure it was.
 */
#ifndef CLFIT_STATUS_H
#define CLFIT_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, message) */
#define CLF_STATUS_TABLE(X)                                                    \
    X(OK, "success")                                                           \
    X(ERR_ARG, "invalid argument")                                             \
    X(ERR_NOMEM, "out of host memory")                                         \
    X(ERR_OVERFLOW, "size arithmetic overflows")                               \
    X(ERR_IO, "file could not be read or written")                             \
    X(ERR_FORMAT, "malformed or unsupported file")                             \
    X(ERR_IMAGE, "image could not be decoded")                                 \
    X(ERR_DATA, "unusable dataset")                                            \
    X(ERR_SHAPE, "tensor shapes do not match")                                 \
    X(ERR_UNSUPPORTED, "not supported")                                        \
    X(ERR_NO_PLATFORM, "no OpenCL platform found")                             \
    X(ERR_DEVICE, "no such device")                                            \
    X(ERR_DEVICE_MEM, "allocation exceeds the device's limits")                \
    X(ERR_OPENCL, "OpenCL call failed")                                        \
    X(ERR_CLBLAST, "CLBlast call failed")                                      \
    X(ERR_BUILD, "OpenCL program build failed")                                \
    X(ERR_NUMERIC, "loss is not a finite number")                              \
    X(ERR_INTERRUPTED, "interrupted")

#define CLF_STATUS_ENUM_(name, msg) CLF_##name,
typedef enum clf_status { CLF_STATUS_TABLE(CLF_STATUS_ENUM_) CLF_STATUS_COUNT_ } clf_status;
#undef CLF_STATUS_ENUM_

/* "CLF_ERR_IO" etc.; "CLF_UNKNOWN" for a value outside the table. */
const char *clf_status_name(clf_status s);

/* A short human sentence fragment, e.g. "file could not be read or written". */
const char *clf_status_message(clf_status s);

#ifdef __cplusplus
}
#endif
#endif
