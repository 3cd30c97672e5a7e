require ["vacation","variables"];
if header :matches "subject" "*" { set "subj" "${1}"; }
vacation :days 7 :addresses ["bob@example.com"] :subject "Re: ${subj}" "I am away.";
