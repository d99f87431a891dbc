package queue

import (
	"encoding/json"

	"github.com/riverqueue/river/rivertype"
)

func unmarshalArgs(job *rivertype.JobRow, v any) error { return json.Unmarshal(job.EncodedArgs, v) }
