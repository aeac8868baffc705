/* Names of OpenCL error codes and CLBlast statuses, and the reports the
 * check macros log. */
#include "ocl.h"

#include <string.h>

#include "clfit/log.h"

typedef struct code_name {
    int code;
    const char *name;
} code_name;

#define CODE_(c) {c, #c},

static const code_name cl_errors[] = {
    CODE_(CL_SUCCESS) CODE_(CL_DEVICE_NOT_FOUND) CODE_(CL_DEVICE_NOT_AVAILABLE)
    CODE_(CL_COMPILER_NOT_AVAILABLE) CODE_(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    CODE_(CL_OUT_OF_RESOURCES) CODE_(CL_OUT_OF_HOST_MEMORY)
    CODE_(CL_PROFILING_INFO_NOT_AVAILABLE) CODE_(CL_MEM_COPY_OVERLAP)
    CODE_(CL_IMAGE_FORMAT_MISMATCH) CODE_(CL_IMAGE_FORMAT_NOT_SUPPORTED)
    CODE_(CL_BUILD_PROGRAM_FAILURE) CODE_(CL_MAP_FAILURE)
    CODE_(CL_MISALIGNED_SUB_BUFFER_OFFSET)
    CODE_(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    CODE_(CL_COMPILE_PROGRAM_FAILURE) CODE_(CL_LINKER_NOT_AVAILABLE)
    CODE_(CL_LINK_PROGRAM_FAILURE) CODE_(CL_DEVICE_PARTITION_FAILED)
    CODE_(CL_KERNEL_ARG_INFO_NOT_AVAILABLE) CODE_(CL_INVALID_VALUE)
    CODE_(CL_INVALID_DEVICE_TYPE) CODE_(CL_INVALID_PLATFORM) CODE_(CL_INVALID_DEVICE)
    CODE_(CL_INVALID_CONTEXT) CODE_(CL_INVALID_QUEUE_PROPERTIES)
    CODE_(CL_INVALID_COMMAND_QUEUE) CODE_(CL_INVALID_HOST_PTR)
    CODE_(CL_INVALID_MEM_OBJECT) CODE_(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
    CODE_(CL_INVALID_IMAGE_SIZE) CODE_(CL_INVALID_SAMPLER) CODE_(CL_INVALID_BINARY)
    CODE_(CL_INVALID_BUILD_OPTIONS) CODE_(CL_INVALID_PROGRAM)
    CODE_(CL_INVALID_PROGRAM_EXECUTABLE) CODE_(CL_INVALID_KERNEL_NAME)
    CODE_(CL_INVALID_KERNEL_DEFINITION) CODE_(CL_INVALID_KERNEL)
    CODE_(CL_INVALID_ARG_INDEX) CODE_(CL_INVALID_ARG_VALUE) CODE_(CL_INVALID_ARG_SIZE)
    CODE_(CL_INVALID_KERNEL_ARGS) CODE_(CL_INVALID_WORK_DIMENSION)
    CODE_(CL_INVALID_WORK_GROUP_SIZE) CODE_(CL_INVALID_WORK_ITEM_SIZE)
    CODE_(CL_INVALID_GLOBAL_OFFSET) CODE_(CL_INVALID_EVENT_WAIT_LIST)
    CODE_(CL_INVALID_EVENT) CODE_(CL_INVALID_OPERATION) CODE_(CL_INVALID_GL_OBJECT)
    CODE_(CL_INVALID_BUFFER_SIZE) CODE_(CL_INVALID_MIP_LEVEL)
    CODE_(CL_INVALID_GLOBAL_WORK_SIZE) CODE_(CL_INVALID_PROPERTY)
    CODE_(CL_INVALID_IMAGE_DESCRIPTOR) CODE_(CL_INVALID_COMPILER_OPTIONS)
    CODE_(CL_INVALID_LINKER_OPTIONS) CODE_(CL_INVALID_DEVICE_PARTITION_COUNT)
    {-1001, "CL_PLATFORM_NOT_FOUND_KHR"},
};

/* CLBlast's own codes; the ones shared with OpenCL use cl_errors. */
static const code_name clblast_codes[] = {
    {-1024, "CLBlastNotImplemented"},     {-1022, "CLBlastInvalidMatrixA"},
    {-1021, "CLBlastInvalidMatrixB"},     {-1020, "CLBlastInvalidMatrixC"},
    {-1019, "CLBlastInvalidVectorX"},     {-1018, "CLBlastInvalidVectorY"},
    {-1017, "CLBlastInvalidDimension"},   {-1016, "CLBlastInvalidLeadDimA"},
    {-1015, "CLBlastInvalidLeadDimB"},    {-1014, "CLBlastInvalidLeadDimC"},
    {-1013, "CLBlastInvalidIncrementX"},  {-1012, "CLBlastInvalidIncrementY"},
    {-1011, "CLBlastInsufficientMemoryA"}, {-1010, "CLBlastInsufficientMemoryB"},
    {-1009, "CLBlastInsufficientMemoryC"}, {-1008, "CLBlastInsufficientMemoryX"},
    {-1007, "CLBlastInsufficientMemoryY"}, {-2050, "CLBlastInsufficientMemoryTemp"},
    {-2049, "CLBlastInvalidBatchCount"},  {-2048, "CLBlastInvalidOverrideKernel"},
    {-2047, "CLBlastMissingOverrideParameter"}, {-2046, "CLBlastInvalidLocalMemUsage"},
    {-2045, "CLBlastNoHalfPrecision"},    {-2044, "CLBlastNoDoublePrecision"},
    {-2043, "CLBlastInvalidVectorScalar"}, {-2042, "CLBlastInsufficientMemoryScalar"},
    {-2041, "CLBlastDatabaseError"},      {-2040, "CLBlastUnknownError"},
    {-2039, "CLBlastUnexpectedError"},
};

static const char *lookup(const code_name *t, size_t n, int code)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].code == code)
            return t[i].name;
    return NULL;
}

const char *clf_cl_error_name(cl_int err)
{
    const char *s = lookup(cl_errors, sizeof cl_errors / sizeof cl_errors[0], err);

    return s ? s : "CL_UNKNOWN_ERROR";
}

const char *clf_clblast_status_name(int status)
{
    const char *s = lookup(clblast_codes, sizeof clblast_codes / sizeof clblast_codes[0],
                           status);

    if (s)
        return s;
    /* CLBlast passes OpenCL's own codes through unchanged */
    s = lookup(cl_errors, sizeof cl_errors / sizeof cl_errors[0], status);
    return s ? s : "CLBlastUnknownStatus";
}

/* Length of the function name at the start of a stringified call. */
static int name_len(const char *call)
{
    return (int)strcspn(call, "( ");
}

void clf_ocl_report(const char *call, cl_int err, const char *file, int line)
{
    CLF_LOG_ERROR("OpenCL: %.*s failed: %s (%d) at %s:%d", name_len(call), call,
                  clf_cl_error_name(err), (int)err, file, line);
}

void clf_clblast_report(const char *call, int status, const char *file, int line)
{
    CLF_LOG_ERROR("CLBlast: %.*s failed: %s (%d) at %s:%d", name_len(call), call,
                  clf_clblast_status_name(status), status, file, line);
}
