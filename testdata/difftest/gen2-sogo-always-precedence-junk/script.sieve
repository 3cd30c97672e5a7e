require ["vacation"];
vacation :days 1 :addresses ["bob@example.com","sales@example.com"] :subject "Out of office" "I am away.";
