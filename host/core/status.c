/* Names and messages of clf_status, generated from CLF_STATUS_TABLE. */
#include "clfit/status.h"

#define NAME_(name, msg) "CLF_" #name,
#define MSG_(name, msg) msg,
static const char *const names[] = {CLF_STATUS_TABLE(NAME_)};
static const char *const messages[] = {CLF_STATUS_TABLE(MSG_)};
#undef NAME_
#undef MSG_

const char *clf_status_name(clf_status s)
{
    if ((unsigned)s >= CLF_STATUS_COUNT_)
        return "CLF_UNKNOWN";
    return names[s];
}

const char *clf_status_message(clf_status s)
{
    if ((unsigned)s >= CLF_STATUS_COUNT_)
        return "unknown status";
    return messages[s];
}
